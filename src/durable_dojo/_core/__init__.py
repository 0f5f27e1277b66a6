"""The emulator core: one module per platform concept. Standard library only; imports nothing from the tools."""
