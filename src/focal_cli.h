/* focal_cli.h — `darknet focal table [-alpha A] [-gamma G]`. argv[0] is "focal". Returns the
 * exit status (0 ok, 1 after one error line). */
#ifndef DN_FOCAL_CLI_H
#define DN_FOCAL_CLI_H
int focal_cli_main(int argc, char **argv);
#endif
