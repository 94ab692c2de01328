/*
 * verbs.h — the command-line verbs, one file each in src/cli/ (argument parsing and printing
 * only; the work is done by the libraries below). argv starts after the verb's own words
 * (e.g. at the .data path for `detector map`); each returns the exit status (0 or 1).
 */
#ifndef DN_CLI_VERBS_H
#define DN_CLI_VERBS_H

int detector_main(int argc, char **argv); /* argv[0] is "detector": dispatches the sub-verbs */
int detector_test_main(int argc, char **argv);
int detector_train_main(int argc, char **argv);
int detector_map_main(int argc, char **argv);
int detector_valid_main(int argc, char **argv);
int detector_calc_anchors_main(int argc, char **argv);
int init_main(int argc, char **argv);
int benchmark_main(int argc, char **argv);
int focal_cli_main(int argc, char **argv); /* argv[0] is "focal" */

#endif
