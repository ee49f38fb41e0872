"""Methods 2 and 3: the pull Secret in named ServiceAccounts and in each namespace's `default` one."""
