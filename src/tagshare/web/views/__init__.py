"""Control-panel views: thin — parse the request, call services or selectors, render."""
