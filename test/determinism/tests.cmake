# --threads 1, 2, 4 give byte-identical backfills; the same under ThreadSanitizer.
add_test(NAME determinism.threads
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/determinism/check_determinism.sh ${SLUICE_BIN} ${WORK}/determinism)
add_test(NAME determinism.tsan
         COMMAND bash -c "test -x ${SLUICE_TSAN_BIN} || { echo 'missing ${SLUICE_TSAN_BIN}: build the tsan preset (scripts/test.sh does)'; exit 1; }; \
                 TSAN_OPTIONS='halt_on_error=1 exitcode=66' bash ${CMAKE_CURRENT_SOURCE_DIR}/determinism/check_determinism.sh ${SLUICE_TSAN_BIN} ${WORK}/determinism-tsan 20000")
add_test(NAME determinism.eviction
         COMMAND ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/determinism/check_eviction.py ${SLUICE_BIN} ${WORK}/eviction)
