"""The social service's pure domain: data, rules and codecs of its own state. No I/O."""
