python -m venv .venv
source .venv/bin/activate
pip install "fastapi[standard]"
