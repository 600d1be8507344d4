# ADict with a default factory: missing keys are created on first read
from ato.adict import ADict

config = ADict(default=lambda: ADict.auto())
config.training.optimizer.name = 'AdamW'
config.training.optimizer.lr = 0.001
config.model.encoder.num_layers = 12
print(config.to_dict())

history = ADict(default=list)
for epoch, loss in enumerate([0.9, 0.5, 0.3]):
    history.loss.append(loss)
    history['epoch'].append(epoch)
print(history.to_dict())

counts = ADict(default=int)
for tag in ['cnn', 'vit', 'cnn']:
    counts[tag] += 1
print(counts.to_dict())

frozen = ADict(lr=0.1, default=dict).freeze()
try:
    frozen.missing
except KeyError as e:
    print('frozen:', type(e).__name__)
