# Argparse integration
from ato.scope import Scope
import argparse

scope = Scope(use_external_parser=True)
parser = argparse.ArgumentParser()
parser.add_argument('--gpu', type=int, default=0)
parser.add_argument('--seed', type=int, default=42)

@scope.observe(default=True)
def config(config):
    config.lr = 0.001
    config.batch_size = 32

@scope
def train(config):
    print(f"GPU: {config.gpu}, LR: {config.lr}, seed: {config.seed}")

if __name__ == '__main__':
    parser.parse_args()  # Merges argparse with scope
    train()
