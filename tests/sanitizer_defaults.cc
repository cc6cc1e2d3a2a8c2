// Sanitizer defaults for the test binaries that run the ECM code (linked in
// as the object library zf_test_sanitizer_defaults; scripts/test.sh runs them
// under ASan with detect_leaks=1).
//
// libecm 7.0.5's ecm() leaks the curve coordinates that ell_curve_set_z ->
// ell_curve_init allocates (tens of bytes per curve, inside the library:
// zfactor frees its ecm_params with ecm_clear). Remove this once libecm is
// fixed or math/ecm.cc works around it. libgmp and libecm
// have no frame pointers, so the slow unwinder is needed for the suppression
// to see the libecm frame.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
extern "C" const char* __lsan_default_suppressions() { return "leak:ell_curve_init\n"; }
