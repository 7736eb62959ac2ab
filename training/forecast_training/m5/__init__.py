"""M5 daily SKU model: data, feature spec, features, training, ONNX export, evaluation."""
