"""The keepalived.conf language: lexer, block tree, typed model, semantic checks."""
