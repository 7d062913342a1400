"""Guidance Lab's diffusion engine: schedule, data, denoisers, guidance and samplers."""
