/* omp_env.h — idle OpenMP threads sleep in ./darknet and the test runner (see omp_env.c). */
#ifndef DN_CLI_OMP_ENV_H
#define DN_CLI_OMP_ENV_H

/* First thing in main(): when this build has oneDNN and OMP_WAIT_POLICY is unset, sets it to
 * passive and executes the program again (/proc/self/exe, same argv), since libgomp reads it
 * only when it is loaded. Returns (doing nothing) otherwise, or when the exec fails. */
void omp_env_passive(char **argv);

#endif
