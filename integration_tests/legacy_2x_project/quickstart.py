# The 30-second example
from ato.scope import Scope

scope = Scope()

@scope.observe(default=True)
def config(config):
    config.lr = 0.001
    config.batch_size = 32
    config.model = 'resnet50'

@scope
def train(config):
    print(f"Training {config.model} with lr={config.lr}")
    # Your training code here

if __name__ == '__main__':
    train()
    # Override from CLI: python train.py lr=0.01 model=%resnet101%
