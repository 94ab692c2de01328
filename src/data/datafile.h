/*
 * datafile.h — the .data file (classes, train, valid, names, backup, ...) and .names lists.
 */
#ifndef DN_DATAFILE_H
#define DN_DATAFILE_H

struct data_file {
    char *path;
    int classes;
    char *train, *valid, *names, *backup, *eval, *results, *difficult;
    int saveweights, savelast; /* 0 = not given (use darknet's defaults) */
    int names_line;            /* line of names= (0 if defaulted) */
};

/* Parses a .data file (cfg grammar without sections). Unknown keys are warnings; a
 * non-numeric classes/saveweights/savelast is an error. 0 on success. */
int datafile_load(const char *path, struct data_file *out);
void datafile_free(struct data_file *d);

/* Reads a .names file: one name per line, verbatim except the newline / CR-LF. Returns a
 * malloc'd array of n malloc'd strings, or NULL after an error line naming where the path
 * came from (from: e.g. "obj.data:3: names=x.names", may be NULL). */
char **names_load(const char *path, const char *from, int *n);
void names_free(char **names, int n);

#endif
