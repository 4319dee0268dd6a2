"""The live demonstration on network namespaces, and the namespace lab it (and the tests) use."""
