# Querying experiments the 2.x way: the logger's ORM session, find_best_run rows, trace statistics
import sys

from ato.adict import ADict
from ato.db_routers.sql.manager import SQLLogger, SQLFinder
from ato.db_routers.sql.schema import Project, Experiment, Metric

config = ADict(experiment=ADict(project_name='queries', sql=ADict(db_path='sqlite:///queries.db')))

run_ids = []
for lr, accuracies in [(0.1, [0.5, 0.62]), (0.01, [0.55, 0.7, 0.74]), (0.001, [0.4])]:
    config.lr = lr
    logger = SQLLogger(config)
    run_id = logger.run(tags=['sweep'])
    for step, acc in enumerate(accuracies):
        logger.log_metric('val_accuracy', acc, step)
    logger.log_artifact(run_id, f'ckpt/{run_id}.pt', 'model', metadata={'lr': lr})
    logger.log_fingerprint('model.forward', 'v1' if lr > 0.005 else 'v2', 'static')
    run_ids.append(run_id)
    if lr != 0.001:
        logger.finish(status='completed')

# the last run is still running: its metrics are not flushed yet, the session sees them anyway
session = logger.session
project = session.query(Project).filter_by(name='queries').first()
for run in project.runs:
    best = max(m.value for m in run.metrics if m.key == 'val_accuracy')
    print(run.id, run.status, run.config['lr'], best, [a.data_info for a in run.artifacts])
running = session.query(Experiment).filter(Experiment.status == 'running').all()
print('running', [run.id for run in running])
count = session.query(Metric).filter(Metric.run_id == run_ids[1], Metric.value > 0.6).count()
print('above 0.6', count)
logger.finish()
print('running after finish', session.query(Experiment).filter(Experiment.status == 'running').count())

finder = SQLFinder(config)
best_run = finder.find_best_run('queries', 'val_accuracy', mode='max')
print('best', best_run.id, best_run.project_id, best_run.config['lr'], best_run.status,
      best_run.structural_hash == project.runs[0].structural_hash, best_run.tags,
      best_run.start_time <= best_run.end_time, [a.data_info for a in best_run.artifacts])
print(finder.get_trace_statistics('queries', 'model.forward'))
sys.exit(0)
