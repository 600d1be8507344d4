# Hyperband over the shared scope, tracked in SQL
from ato.hyperopt.hyperband import HyperBand
from ato.adict import ADict
from configs.default import scope

search_spaces = ADict(
    lr=ADict(
        param_type='FLOAT',
        param_range=(1e-4, 1e-1),
        num_samples=4,
        space_type='LOG'
    ),
    batch_size=ADict(
        param_type='CATEGORY',
        categories=[32, 64]
    ),
)

@scope.observe(default=True, priority=5)
def flat(config):
    config.lr = config.train.lr
    config.batch_size = config.data.batch_size

hyperband = HyperBand(scope, search_spaces, halving_rate=0.5, num_min_samples=2)
steps = hyperband.compute_optimized_initial_training_steps(max_steps=1000)

@hyperband.main
def train(config):
    budget = steps[config.__num_halved__]
    return -abs(config.lr - 0.01) + config.batch_size / 1e4 + budget / 1e6

if __name__ == '__main__':
    result = train()
    print(f"Best config: lr={result.config.lr} batch_size={result.config.batch_size}")
    print(f"Best metric: {result.metric:.4f}")
