# Module paths of ato 2.x that 3.0 keeps as aliases
import sys

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from ato.parser import parse_command
from ato.scope import Scope, parse_args_pythonic
from ato.db_routers.sql.manager import SQLFinder
from ato.db_routers.sql.schema import Base, Project, Experiment, Metric, Artifact, Fingerprint

tokens = parse_command('train.py layers=[64, 128] name=%my run% train.lr=0.5')
print(tokens)
print(parse_args_pythonic(tokens[1:]).to_dict())
print(parse_args_pythonic().to_dict())

Scope.initialize_registry()
scope = Scope(name='legacy')
print(sorted(Scope.registry))

engine = create_engine('sqlite:///experiments.db')
with Session(engine) as session:
    project = session.query(Project).filter_by(name='my_project').one()
    for run in project.runs:
        metrics = session.query(Metric).filter_by(run_id=run.id, key='val_accuracy').all()
        best = max(m.value for m in metrics)
        print(run.id, run.status, run.config['train']['lr'], round(best, 3),
              [a.data_info for a in run.artifacts], len(run.fingerprints))

finder = SQLFinder({'experiment': {'project_name': 'my_project', 'sql': {'db_path': 'sqlite:///experiments.db'}}})
best = finder.find_best_run('my_project', 'val_accuracy', mode='max')
print('best run', best.id, best.config.train.lr)
sys.exit(0)
