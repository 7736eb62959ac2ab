"""Training pipeline of forecast-stream: Walmart data -> features -> quantile MLP -> ONNX."""
