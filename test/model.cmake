# ---------------------------------------------------------------------------
# model: the spin model of the segment ownership protocol
# (model/ownership.pml, doc/ownership-model.md), checked by
# scripts/check-model.sh.
#   model-check    the real protocol verifies exhaustively (3 threads,
#                  2 segments) with no error; the legacy variant yields a
#                  counterexample, printed as a short trail
#   model-mutants  every protocol mutant of the model yields a counterexample
# Both need `spin` and `gcc`; without them the script exits 77 and ctest
# reports the tests as skipped. The model does not depend on the build, so
# the tests are registered once per scripts/check.sh: only in a plain
# Release tree (not in the Debug, sanitizer or legacy trees). Turn off with
# -DMI_TEST_MODEL=OFF.
# ---------------------------------------------------------------------------
option(MI_TEST_MODEL "Register the spin model checks (about 1 minute of CPU)" ON)

if(NOT MI_TEST_MODEL OR MI_LEGACY_OWNERSHIP OR MI_SANITIZE OR NOT CMAKE_BUILD_TYPE STREQUAL "Release")
  return()
endif()

set(mi_model_dir "${CMAKE_CURRENT_BINARY_DIR}/model")
add_test(NAME model-check
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-model.sh --work-dir ${mi_model_dir})
add_test(NAME model-mutants
         COMMAND ${PROJECT_SOURCE_DIR}/scripts/check-model.sh --mutants-only --work-dir ${mi_model_dir}/mutants)
set_tests_properties(model-check model-mutants PROPERTIES
                     LABELS "model"
                     TIMEOUT 900
                     SKIP_RETURN_CODE 77)
