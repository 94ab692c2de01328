/*
 * checkpoint.c — what a resumed or interrupted run finds in its backup directory: temporary
 * files of saves that were killed (removed when their writer is gone), and a training log
 * whose rows go past the checkpoint it resumes from (cut back). The checkpoints themselves are
 * written atomically by weights_save (layers/weights.c).
 */
#define _POSIX_C_SOURCE 200809L
#include "train/train.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"

/* Removes "<base>_*.weights.tmp.<pid>" files in the backup directory whose writer no longer
 * runs: what a save killed between create and rename leaves (weights_save names its temporary
 * file so; it never matches *.weights, so it is never mistaken for a checkpoint). */
void checkpoint_remove_stale_temps(const char *backup, const char *base, int quiet)
{
    DIR *d = opendir(backup);
    if (!d) return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *tag = strstr(e->d_name, ".weights.tmp.");
        if (!tag || strncmp(e->d_name, base, bl) || e->d_name[bl] != '_') continue;
        char *end;
        long pid = strtol(tag + strlen(".weights.tmp."), &end, 10);
        if (*end || pid <= 0) continue;                      /* not a name weights_save makes */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer may still run */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", backup, e->d_name);
        if (unlink(path) == 0 && !quiet)
            fprintf(stderr, "removed %s (left by an interrupted save)\n", path);
    }
    closedir(d);
}

/* Resuming from an older checkpoint: drops the log rows after iteration `it` (they belong to
 * the abandoned continuation), so that the CSV's iteration numbers stay one increasing run.
 * Rewritten through a temporary file + rename. Returns 0, or -1 after an error line. */
int checkpoint_csv_truncate_after(const char *path, int it)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        dn_error("%s: error: cannot read the training log: %s", path, strerror(errno));
        return -1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *out = fopen(tmp, "w");
    if (!out) {
        dn_error("%s: error: cannot write: %s", tmp, strerror(errno));
        fclose(in);
        return -1;
    }
    char line[1024];
    int dropped = 0, first = 1, ok = 1;
    while (fgets(line, sizeof line, in)) {
        char *end;
        long row_it = strtol(line, &end, 10);
        if (!first && end != line && *end == ',' && row_it > it) {
            dropped++;
            continue;
        }
        first = 0;
        ok &= fputs(line, out) >= 0;
    }
    fclose(in);
    ok &= fclose(out) == 0;
    if (!ok || rename(tmp, path)) {
        dn_error("%s: error: cannot rewrite the training log", path);
        unlink(tmp);
        return -1;
    }
    if (dropped) fprintf(stderr, "%s: %d rows after iteration %d dropped (resumed from an earlier checkpoint)\n",
                         path, dropped, it);
    return 0;
}
