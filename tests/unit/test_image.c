/* Unit tests: the image chooser (builtins/image.c) and the EC2 quota table
 * (builtins/quota.c) on catalogue data shaped like DescribeImages answers
 * (names and descriptions as AWS publishes DLAMIs). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stack/image.h"
#include "stack/quota.h"
#include "unit.h"

/* 2026-01-01T00:00:00Z */
#define NOW ((time_t)1767225600)

static const char catalogue[] = "["
    /* Habana: PyTorch and TensorFlow, Ubuntu; an old PyTorch one. */
    "{\"imageId\":\"ami-hpt-old\",\"name\":\"Deep Learning AMI Habana PyTorch "
    "1.12.0 SynapseAI 1.6.0 (Ubuntu 20.04) 20220926\",\"description\":"
    "\"Supported EC2 instances: DL1. Release notes: …\",\"creationDate\":"
    "\"2022-09-26T10:00:00.000Z\",\"imageState\":\"available\"},"
    "{\"imageId\":\"ami-hpt-new\",\"name\":\"Deep Learning AMI Habana PyTorch "
    "1.13.1 SynapseAI 1.9.0 (Ubuntu 20.04) 20230509\",\"description\":"
    "\"Supported EC2 instances: DL1. Release notes: …\",\"creationDate\":"
    "\"2023-05-09T10:00:00.000Z\",\"imageState\":\"available\"},"
    "{\"imageId\":\"ami-htf-newest\",\"name\":\"Deep Learning AMI Habana "
    "TensorFlow 2.12.0 SynapseAI 1.10.0 (Ubuntu 20.04) 20230710\","
    "\"description\":\"Supported EC2 instances: DL1.\",\"creationDate\":"
    "\"2023-07-10T10:00:00.000Z\",\"imageState\":\"available\"},"
    "{\"imageId\":\"ami-hpt-al2\",\"name\":\"Deep Learning AMI Habana PyTorch "
    "1.13.1 SynapseAI 1.9.0 (Amazon Linux 2) 20230601\",\"description\":"
    "\"Supported EC2 instances: DL1.\",\"creationDate\":"
    "\"2023-06-01T10:00:00.000Z\",\"imageState\":\"available\"},"
    /* GPU PyTorch: the 2023 one lists P3 and is deprecated; the current
     * ones do not list P3. */
    "{\"imageId\":\"ami-gpt-p3\",\"name\":\"Deep Learning AMI GPU PyTorch "
    "2.0.1 (Ubuntu 20.04) 20230620\",\"description\":\"Supported EC2 "
    "instances: G3, P3, P3dn, P4d, G5, G4dn. Release notes: …\","
    "\"creationDate\":\"2023-06-20T10:00:00.000Z\",\"imageState\":"
    "\"available\",\"deprecationTime\":\"2025-06-20T10:00:00.000Z\"},"
    "{\"imageId\":\"ami-gpt-cur\",\"name\":\"Deep Learning OSS Nvidia Driver "
    "AMI GPU PyTorch 2.3.1 (Ubuntu 20.04) 20240825\",\"description\":"
    "\"Supported EC2 instances: G4dn, G5, G6, Gr6, G6e, P4d, P4de, P5. "
    "PyTorch-2.3.1\",\"creationDate\":\"2024-08-25T10:00:00.000Z\","
    "\"imageState\":\"available\"}"
    "]";

static const char *const habana[] = { "Deep Learning AMI Habana PyTorch*",
    "*Habana*PyTorch*", NULL };
static const char *const gpu[] = { "Deep Learning AMI GPU PyTorch*",
    "Deep Learning OSS Nvidia Driver AMI GPU PyTorch*", NULL };

static const char *
id(const cJSON *img)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(img, "imageId");
	return cJSON_IsString(v) ? v->valuestring : "(none)";
}

static void
test_dl1_newest_habana_pytorch_ubuntu(void)
{
	cJSON *c = cJSON_Parse(catalogue);
	struct image_pick p;

	image_choose(c, habana, "dl1.24xlarge", 0, NOW, &p);
	/* Not the newer TensorFlow one, not the Amazon Linux one. */
	T_EQ_STR(id(p.best), "ami-hpt-new");
	T_EQ_STR(image_login_user(p.best), "ubuntu");
	cJSON_Delete(c);
}

static void
test_asked_for(void)
{
	cJSON *c = cJSON_Parse(catalogue);
	static const char *const tf[] = { "*Habana TensorFlow*", NULL };
	static const char *const al[] = { "*Habana*(Amazon Linux 2)*", NULL };
	struct image_pick p;

	image_choose(c, tf, "dl1.24xlarge", 0, NOW, &p);
	T_EQ_STR(id(p.best), "ami-htf-newest");
	image_choose(c, al, "dl1.24xlarge", 0, NOW, &p);
	T_EQ_STR(id(p.best), "ami-hpt-al2");
	T_EQ_STR(image_login_user(p.best), "ec2-user");
	cJSON_Delete(c);
}

static void
test_p3_unsupported(void)
{
	cJSON *c = cJSON_Parse(catalogue);
	struct image_pick p;
	char *near;

	image_choose(c, gpu, "p3.8xlarge", 0, NOW, &p);
	T_OK(p.best == NULL);
	T_EQ_STR(id(p.unsupported), "ami-gpt-cur");
	T_EQ_STR(id(p.last_supported), "ami-gpt-p3");
	near = image_nearest_type(p.unsupported, "p3.8xlarge");
	T_EQ_STR(near, "p4d.24xlarge");
	free(near);
	/* Including deprecated images, the last one listing P3 wins. */
	image_choose(c, gpu, "p3.8xlarge", 1, NOW, &p);
	T_EQ_STR(id(p.best), "ami-gpt-p3");
	/* g5 is listed by the current one. */
	image_choose(c, gpu, "g5.xlarge", 0, NOW, &p);
	T_EQ_STR(id(p.best), "ami-gpt-cur");
	cJSON_Delete(c);
}

static void
test_families(void)
{
	char *f = image_family("dl1.24xlarge");
	T_EQ_STR(f, "DL1");
	free(f);
	f = image_family("g4dn.xlarge");
	T_EQ_STR(f, "G4dn");
	free(f);
	{
		cJSON *i = cJSON_Parse("{\"description\":\"no list here\"}");
		T_EQ_INT(image_supports(i, "P3"), -1);
		cJSON_Delete(i);
	}
}

static void
test_no_match(void)
{
	cJSON *c = cJSON_Parse(catalogue);
	static const char *const none[] = { "Nothing like this*", NULL };
	struct image_pick p;

	image_choose(c, none, "dl1.24xlarge", 0, NOW, &p);
	T_OK(p.best == NULL && p.unsupported == NULL);
	T_EQ_INT(p.matched, 0);
	cJSON_Delete(c);
}

static void
test_quota_codes(void)
{
	const char *code, *name;

	T_EQ_INT(quota_ec2_code("dl1.24xlarge", 0, &code, &name), 0);
	T_EQ_STR(code, "L-6E869C2A");
	T_EQ_INT(quota_ec2_code("dl1.24xlarge", 1, &code, &name), 0);
	T_EQ_STR(code, "L-85EED4F7");
	T_EQ_INT(quota_ec2_code("p3.8xlarge", 0, &code, &name), 0);
	T_EQ_STR(code, "L-417A185B");
	T_EQ_STR(name, "Running On-Demand P instances");
	T_EQ_INT(quota_ec2_code("p3.8xlarge", 1, &code, &name), 0);
	T_EQ_STR(code, "L-7212CCBC");
	T_EQ_INT(quota_ec2_code("t3.nano", 0, &code, &name), 0);
	T_EQ_STR(code, "L-1216C47A");
	T_EQ_INT(quota_ec2_code("trn1.2xlarge", 0, &code, &name), -1);
}

int
main(void)
{
	T_RUN(test_dl1_newest_habana_pytorch_ubuntu);
	T_RUN(test_asked_for);
	T_RUN(test_p3_unsupported);
	T_RUN(test_families);
	T_RUN(test_no_match);
	T_RUN(test_quota_codes);
	T_DONE();
}
