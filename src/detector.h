/* detector.h — the `darknet detector ...` verbs. argv[0] is "detector". Returns the exit status. */
#ifndef DN_DETECTOR_H
#define DN_DETECTOR_H
int detector_main(int argc, char **argv);
#endif
