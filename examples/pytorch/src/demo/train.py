"""Train a tiny model on random data: enough to prove the GPU works inside the dev container."""
import torch


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"training on {device}: {torch.cuda.get_device_name(0) if device == 'cuda' else 'no GPU'}")
    model = torch.nn.Linear(128, 10).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(512, 128, device=device)
    y = torch.randint(0, 10, (512,), device=device)
    for step in range(20):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    print(f"final loss {loss.item():.3f}")


if __name__ == "__main__":
    main()
