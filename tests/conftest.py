import sys
from pathlib import Path

# the helpers under tests/ (textmatch, servers) import as plain modules
sys.path.insert(0, str(Path(__file__).resolve().parent))
