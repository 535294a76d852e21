# The libFuzzer targets: test/fuzz/<name>_fuzzer.cc, seeds in test/fuzz/corpus/<name>/. Read by
# test/fuzz/CMakeLists.txt (to build them) and test/bad_input/tests.cmake (to run them as fuzz.<name>).
set(SLUICE_FUZZ_TARGETS jsonl_decoder csv_decoder record_reader spec_parser expr_parser model_json
                        linear_model checkpoint_state)
