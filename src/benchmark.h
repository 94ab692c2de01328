/* benchmark.h — `darknet benchmark ...` (forward timing for make bench). Returns exit status. */
#ifndef DN_BENCHMARK_H
#define DN_BENCHMARK_H
int benchmark_main(int argc, char **argv);
#endif
