"""Analysis code specific to 'Unearthing the Cost'. Imported by the notebooks;
the engine (reprobook) never imports it."""

# Myanmar's military seized power on 1 February 2021; the report splits its
# series into pre-coup (up to 2020) and post-coup (2021 on) years.
COUP_YEAR = 2021
