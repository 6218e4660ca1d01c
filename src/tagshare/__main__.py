"""`python -m tagshare …` runs the same command line as the `tagshare` console script."""

from tagshare.cli import main

if __name__ == "__main__":
    main()
