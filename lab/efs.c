/* efs.c: the lab's EFS. A file system is a directory under state/efs; a
 * mount target is a file state/vpcs/<vpc>/mt/<ip> naming it, which hosts of
 * that VPC see at /run/mlshlab/mt, where their mount.nfs4 helper looks. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab/lab.h"
#include "lab/lab_int.h"

static int ip_ok(const char *ip);

int
lab_efs_create(const char *state, const char *fs_id, char **cause)
{
	char *path;
	int lock, rc;

	if (!lab_id_ok(fs_id)) {
		*cause = xasprintf("bad file system id \"%s\"", fs_id);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	path = lab_efs_path(state, fs_id);
	rc = mkdir_p(path, 0755, cause);
	free(path);
	lab_unlock(lock);
	return rc;
}

int
lab_efs_destroy(const char *state, const char *fs_id, char **cause)
{
	char *path, *vdir;
	DIR *vpcs;
	struct dirent *de;
	int lock, rc = 0;

	if (!lab_id_ok(fs_id)) {
		*cause = xasprintf("bad file system id \"%s\"", fs_id);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	/* Its mount targets first, in every VPC. */
	vdir = lab_path(state, "vpcs");
	if ((vpcs = opendir(vdir)) != NULL) {
		while ((de = readdir(vpcs)) != NULL) {
			char *mtdir;
			DIR *mt;
			struct dirent *e;

			if (de->d_name[0] == '.')
				continue;
			mtdir = lab_path(state, "vpcs/%s/mt", de->d_name);
			if ((mt = opendir(mtdir)) != NULL) {
				while ((e = readdir(mt)) != NULL) {
					char *f = xasprintf("%s/%s", mtdir,
					    e->d_name);
					char *line = e->d_name[0] != '.' ?
					    lab_read_line(f) : NULL;

					if (line != NULL && strcmp(line, fs_id)
					    == 0)
						unlink(f);
					free(line);
					free(f);
				}
				closedir(mt);
			}
			free(mtdir);
		}
		closedir(vpcs);
	}
	free(vdir);
	path = lab_efs_path(state, fs_id);
	if (lab_rm_rf(path) == -1) {
		*cause = xasprintf("cannot remove %s: %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	lab_unlock(lock);
	return rc;
}

int
lab_efs_target_add(const char *state, const char *fs_id, const char *vpc_id,
    const char *ip, char **cause)
{
	char *path, *text;
	int lock, index, rc = -1;

	if (!lab_id_ok(fs_id) || !ip_ok(ip)) {
		*cause = xasprintf("bad mount target %s for %s", ip, fs_id);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	path = lab_efs_path(state, fs_id);
	if (access(path, F_OK) != 0) {
		*cause = xasprintf("no lab file system %s", fs_id);
		free(path);
		goto out;
	}
	free(path);
	if (lab_vpc_ensure(state, vpc_id, &index, cause) == -1)
		goto out;
	path = lab_path(state, "vpcs/%s/mt/%s", vpc_id, ip);
	text = xasprintf("%s\n", fs_id);
	rc = lab_write_file(path, text, strlen(text), 0644, cause);
	free(text);
	free(path);
out:
	lab_unlock(lock);
	return rc;
}

int
lab_efs_target_del(const char *state, const char *vpc_id, const char *ip,
    char **cause)
{
	char *path;
	int lock;

	if (!lab_id_ok(vpc_id) || !ip_ok(ip)) {
		*cause = xasprintf("bad mount target %s in %s", ip, vpc_id);
		return -1;
	}
	if ((lock = lab_lock(state, cause)) == -1)
		return -1;
	path = lab_path(state, "vpcs/%s/mt/%s", vpc_id, ip);
	unlink(path);
	free(path);
	lab_unlock(lock);
	return 0;
}

char *
lab_efs_path(const char *state, const char *fs_id)
{
	return lab_path(state, "efs/%s", fs_id);
}

static int
ip_ok(const char *ip)
{
	unsigned int addr;
	int len;

	return ip != NULL && strchr(ip, '/') == NULL &&
	    lab_cidr_parse(ip, &addr, &len) == 0;
}
