/*
 * The return-code check of the table-driven tests: a row's id, what was called, and both codes by name when they
 * differ.
 */
#ifndef TESTS_COMMON_RC_CHECK_H
#define TESTS_COMMON_RC_CHECK_H

/* Fail the running cmocka test unless @got == @want: "[@id] @what: returned got (name), expected want (name)". */
void check_rc(const char *id, const char *what, int got, int want);

#endif /* TESTS_COMMON_RC_CHECK_H */
