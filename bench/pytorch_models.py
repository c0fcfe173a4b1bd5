"""The training steps of bench/models.mjs in PyTorch on one CPU thread, timed by itself.

  python3 bench/pytorch_models.py --model lenet|cifar --seconds S

Warms up for S/2 seconds, then times single steps for S seconds and prints one JSON line:
{"version": ..., "samples_ms": [...], "first_loss": ...}.
"""
import json
import sys
import time

import torch
from torch import nn


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)), 64, (1, 28, 28)


def cifar():
    def block(cin, cout, pool):
        return [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), pool(2)]
    return nn.Sequential(
        *block(3, 32, nn.MaxPool2d), *block(32, 64, nn.MaxPool2d), *block(64, 64, nn.AvgPool2d),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 10)), 32, (3, 32, 32)


MODELS = {'lenet': lenet, 'cifar': cifar}


def main():
    seconds = float(sys.argv[sys.argv.index('--seconds') + 1])
    name = sys.argv[sys.argv.index('--model') + 1]
    if name not in MODELS:
        sys.exit(f'--model must be one of {", ".join(MODELS)}, not {name!r}')
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model, batch, image = MODELS[name]()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x, labels = torch.rand(batch, *image), torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    first_loss = step()
    end = time.perf_counter() + seconds / 2
    while time.perf_counter() < end:
        step()
    samples, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(samples) < 5:
        t = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({'version': torch.__version__, 'samples_ms': samples, 'first_loss': first_loss}))


if __name__ == '__main__':
    main()
