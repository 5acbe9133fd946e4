/* service.c: the session services builtins provide (builtins/services.def).
 *
 * The shell knows builtins only through tables: commands through
 * builtins.def (cmd.c), what they keep for the session through
 * services.def here. Each service's state hangs in one opaque slot of the
 * context (shell_service_slot). */
#include "shell/shell.h"

#include <stdlib.h>
#include <string.h>

#define MLSH_SERVICE(n) extern const struct mlsh_service svc_##n;
#include "builtins/services.def"
#undef MLSH_SERVICE
#define MLSH_SERVICE(n) &svc_##n,
const struct mlsh_service *const mlsh_services[] = {
#include "builtins/services.def"
	NULL
};
#undef MLSH_SERVICE

#define NSERVICES (sizeof mlsh_services / sizeof mlsh_services[0] - 1)

void **
shell_service_slot(struct mlsh_ctx *ctx, const struct mlsh_service *svc)
{
	if (ctx->services == NULL)
		ctx->services = xcalloc(NSERVICES, sizeof *ctx->services);
	for (size_t i = 0; i < NSERVICES; i++)
		if (mlsh_services[i] == svc)
			return &ctx->services[i];
	abort();	/* a service missing from services.def: a build error */
}

int
shell_services_init(struct mlsh_ctx *ctx, char **cause)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		char *why = NULL;

		if (mlsh_services[i]->init == NULL ||
		    mlsh_services[i]->init(ctx, &why) == 0)
			continue;
		*cause = xasprintf("%s: %s", mlsh_services[i]->name,
		    why != NULL ? why : "cannot start");
		free(why);
		return -1;
	}
	return 0;
}

void
shell_services_reset(struct mlsh_ctx *ctx)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (mlsh_services[i]->reset != NULL)
			mlsh_services[i]->reset(ctx);
}

void
shell_services_tick(struct mlsh_ctx *ctx)
{
	for (size_t i = 0; i < NSERVICES; i++)
		if (mlsh_services[i]->tick != NULL)
			mlsh_services[i]->tick(ctx);
}

void
shell_services_prompt(struct mlsh_ctx *ctx, struct buf *b)
{
	for (size_t i = 0; i < NSERVICES; i++) {
		char *seg;

		if (mlsh_services[i]->prompt == NULL ||
		    (seg = mlsh_services[i]->prompt(ctx)) == NULL)
			continue;
		buf_addc(b, ' ');
		buf_adds(b, seg);
		free(seg);
	}
}

void
shell_services_free(struct mlsh_ctx *ctx)
{
	/* In reverse: a later service may use an earlier one's state. */
	for (size_t i = NSERVICES; i-- > 0;)
		if (mlsh_services[i]->free != NULL)
			mlsh_services[i]->free(ctx);
	free(ctx->services);
	ctx->services = NULL;
}

struct aws_client *
shell_services_aws(struct mlsh_ctx *ctx, const struct aws_options *o,
    char **cause)
{
	*cause = NULL;
	for (size_t i = 0; i < NSERVICES; i++) {
		struct aws_client *c;

		if (mlsh_services[i]->aws == NULL)
			continue;
		if ((c = mlsh_services[i]->aws(ctx, o, cause)) != NULL ||
		    *cause != NULL)
			return c;
	}
	return NULL;
}
