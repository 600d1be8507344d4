# ato.xyz on documents that are not mappings, and its node tree
from ato.xyz import (dumps, loads, dump, load,
                     convert_structure_to_tree, convert_tree_to_structure)

for obj in ([64, 128, 256], [[1, 2], [3, [4, 5]]], [{'name': 'conv', 'out': 64}, []], 0.001, 'resnet50', None):
    text = dumps(obj)
    assert loads(text) == obj, (obj, text)
    print(repr(obj), '->', ' | '.join(text.splitlines()))

dump([[0.1, 0.2], [0.3]], 'grid.xyz')
with open('grid.xyz') as f:
    print(load(f))

tree = convert_structure_to_tree({'model': {'layers': [64, 128]}, 'lr': 0.1})
print(tree.node_type, [(child.value, child.node_type) for child in tree.children])
layers = tree.children[0].children[0]
print(layers.value, [item.value for item in layers.children])
assert convert_tree_to_structure(tree) == {'model': {'layers': [64, 128]}, 'lr': 0.1}
print(tree.dumps().strip().replace('\n', ' | '))

try:
    dumps({'a': 1}, format_dict={'key_prefix': '-'})
except TypeError as e:
    print('format_dict:', e)
