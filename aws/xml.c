/* xml.c: AWS XML responses to cJSON, with expat.
 *
 * expat builds a small element tree first, because whether an element becomes
 * an array depends on all of its children. */
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "lib/util.h"
#include "aws/xml.h"

#define AWSXML_MAX_DEPTH 256

struct xnode {
	char *name;			/* local name, namespace prefix stripped */
	struct buf text;
	struct xnode *parent;
	struct xnode *first, *last, *next;
	int seen;			/* conversion: already added to an array */
};

struct xparse {
	XML_Parser p;
	struct xnode *root;
	struct xnode *cur;
	int depth;
	int too_deep;
};

static cJSON *convert(struct xnode *);
static void xnode_free(struct xnode *);


static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct xparse *xp = arg;
	struct xnode *n;
	const char *colon;

	(void)attrs;
	if (++xp->depth > AWSXML_MAX_DEPTH) {
		xp->too_deep = 1;
		XML_StopParser(xp->p, XML_FALSE);
		return;
	}
	colon = strrchr(name, ':');
	n = xcalloc(1, sizeof *n);
	n->name = xstrdup(colon != NULL ? colon + 1 : name);
	buf_init(&n->text);
	n->parent = xp->cur;
	if (xp->cur == NULL) {
		xp->root = n;
	} else {
		if (xp->cur->last != NULL)
			xp->cur->last->next = n;
		else
			xp->cur->first = n;
		xp->cur->last = n;
	}
	xp->cur = n;
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct xparse *xp = arg;

	(void)name;
	xp->depth--;
	if (xp->cur != NULL)
		xp->cur = xp->cur->parent;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct xparse *xp = arg;

	if (xp->cur != NULL && len > 0)
		buf_add(&xp->cur->text, s, (size_t)len);
}

cJSON *
awsxml_parse(const char *data, size_t len, char **root_name, char **cause)
{
	struct xparse xp;
	cJSON *out = NULL;
	enum XML_Status st;

	if (root_name != NULL)
		*root_name = NULL;
	memset(&xp, 0, sizeof xp);
	xp.p = XML_ParserCreate("UTF-8");
	if (xp.p == NULL) {
		*cause = xstrdup("cannot create an XML parser");
		return NULL;
	}
	XML_SetUserData(xp.p, &xp);
	XML_SetElementHandler(xp.p, on_start, on_end);
	XML_SetCharacterDataHandler(xp.p, on_text);
	/* Chunks keep the length within expat's int. */
	st = XML_STATUS_OK;
	while (st == XML_STATUS_OK && len > 0) {
		int chunk = len > (1 << 30) ? (1 << 30) : (int)len;
		st = XML_Parse(xp.p, data, chunk, 0);
		data += chunk;
		len -= (size_t)chunk;
	}
	if (st == XML_STATUS_OK)
		st = XML_Parse(xp.p, "", 0, 1);
	if (xp.too_deep) {
		*cause = xasprintf("XML nested deeper than %d elements",
		    AWSXML_MAX_DEPTH);
	} else if (st != XML_STATUS_OK) {
		*cause = xasprintf("malformed XML at line %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(xp.p),
		    XML_ErrorString(XML_GetErrorCode(xp.p)));
	} else if (xp.root == NULL) {
		*cause = xstrdup("XML document without an element");
	} else {
		out = convert(xp.root);
		if (root_name != NULL)
			*root_name = xstrdup(xp.root->name);
	}
	XML_ParserFree(xp.p);
	xnode_free(xp.root);
	return out;
}

static int
is_list_child(const struct xnode *n)
{
	return strcmp(n->name, "item") == 0 || strcmp(n->name, "member") == 0;
}

static cJSON *
convert(struct xnode *n)
{
	struct xnode *c, *d;
	cJSON *obj, *arr;
	int all_items = 1;

	if (n->first == NULL) {
		if (n->text.len == 0)
			return str_endswith(n->name, "Set") ?
			    cJSON_CreateArray() : cJSON_CreateString("");
		return cJSON_CreateString(n->text.data);
	}
	for (c = n->first; c != NULL; c = c->next) {
		if (!is_list_child(c))
			all_items = 0;
	}
	if (all_items) {
		arr = cJSON_CreateArray();
		for (c = n->first; c != NULL; c = c->next)
			cJSON_AddItemToArray(arr, convert(c));
		return arr;
	}
	obj = cJSON_CreateObject();
	for (c = n->first; c != NULL; c = c->next) {
		int repeated = 0;

		if (c->seen)
			continue;
		for (d = c->next; d != NULL; d = d->next) {
			if (strcmp(d->name, c->name) == 0) {
				repeated = 1;
				break;
			}
		}
		if (!repeated) {
			cJSON_AddItemToObject(obj, c->name, convert(c));
			continue;
		}
		arr = cJSON_CreateArray();
		for (d = c; d != NULL; d = d->next) {
			if (strcmp(d->name, c->name) == 0) {
				d->seen = 1;
				cJSON_AddItemToArray(arr, convert(d));
			}
		}
		cJSON_AddItemToObject(obj, c->name, arr);
	}
	return obj;
}

/* Iterative, so a deep tree cannot exhaust the stack on the way out. */
static void
xnode_free(struct xnode *n)
{
	while (n != NULL) {
		struct xnode *next;

		if (n->first != NULL) {
			/* Splice the children in front of the siblings. */
			n->last->next = n->next;
			next = n->first;
			n->first = n->last = NULL;
			n->next = next;
		}
		next = n->next;
		free(n->name);
		buf_release(&n->text);
		free(n);
		n = next;
	}
}
