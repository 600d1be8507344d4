# ADict files, structural hashing, 2.x config groups, ato.xyz
import sys

from ato.adict import ADict
from ato.xyz import dumps, loads, dump, load

# Same structure, different values
config1 = ADict(lr=0.1, epochs=100, model='resnet50')
config2 = ADict(lr=0.01, epochs=200, model='resnet101')
print(config1.get_structural_hash() == config2.get_structural_hash())  # True

# Different structure (epochs is str!)
config3 = ADict(lr=0.1, epochs='100', model='resnet50')
print(config1.get_structural_hash() == config3.get_structural_hash())  # False

config = ADict.auto()
config.model.backbone.layers = [64, 128, 256]  # Just works!
config.data.augmentation.brightness = 0.2

# Load/save any format
config.dump('config.json')
config = ADict.from_file('config.json')
config.dump('config.yaml')
config.update_if_absent(lr=0.01, scheduler='cosine')  # Only adds scheduler
print(ADict.from_file('config.yaml').model.backbone.layers)

# ato.xyz, the 2.x module
text = dumps(config)
assert loads(text) == config
dump(config, 'config.xyz')
with open('config.xyz') as f:
    assert load(f) == config

# Hierarchical composition of 2.x group files (each carries its own top-level key)
config = ADict.compose_hierarchy(
    root='configs/groups',
    config_filename='config',
    select={
        'model': 'resnet50',
        'data': 'imagenet'
    },
    overrides={
        'model.depth': 101,
    },
    required=['model.name', 'data.name'],
    package='_global_',
)
print(config.model.name, config.model.depth, config.data.name, config.seed)
sys.exit(0)
