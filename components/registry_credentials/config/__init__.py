"""The configuration as a whole: stack files, the one reader of stack config, and the checks of every setting."""
