/* Unit tests: host-key fingerprints from an instance's console output. */
#include <stdlib.h>
#include "builtins/target.h"
#include "unit.h"

static void
test_cloud_init_block(void)
{
	const char *console =
	    "[   12.3] cloud-init[1234]: Generating public/private rsa key pair.\n"
	    "ec2: \n"
	    "ec2: #############################################################\n"
	    "ec2: -----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
	    "ec2: 256 SHA256:abcDEF0123+/xyz root@ip-10-0-1-5 (ECDSA)\n"
	    "ec2: 256 SHA256:QRSTuvw456+/789 root@ip-10-0-1-5 (ED25519)\n"
	    "ec2: -----END SSH HOST KEY FINGERPRINTS-----\n"
	    "ec2: #############################################################\n"
	    "SHA256:notinblock\n";
	struct strlist l;

	strlist_init(&l);
	target_console_fingerprints(console, &l);
	T_EQ_INT(l.n, 2);
	T_EQ_STR(l.v[0], "SHA256:abcDEF0123+/xyz");
	T_EQ_STR(l.v[1], "SHA256:QRSTuvw456+/789");
	strlist_release(&l);
}

static void
test_no_block(void)
{
	struct strlist l;

	strlist_init(&l);
	target_console_fingerprints("booting\nSHA256:loose root\n", &l);
	target_console_fingerprints("-----BEGIN SSH HOST KEY FINGERPRINTS-----\n"
	    "256 SHA256:unterminated\n", &l);
	T_EQ_INT(l.n, 0);
	strlist_release(&l);
}

int
main(void)
{
	T_RUN(test_cloud_init_block);
	T_RUN(test_no_block);
	T_DONE();
}
