/* xml.h: AWS XML responses to cJSON (expat).
 *
 * The one data model: an element with only text becomes a string; with
 * children an object; children all named "item" or "member" make an array
 * (even of one); repeated same-name siblings make an array; an empty element
 * is [] when its name ends in "Set", else "". Attributes are ignored and
 * namespace prefixes stripped. */
#ifndef MLSH_AWSXML_H
#define MLSH_AWSXML_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* The root element converted (its name dropped: *root_name gets it when not
 * NULL, caller frees). NULL with an allocated *cause on malformed input. */
cJSON *awsxml_parse(const char *data, size_t len, char **root_name,
    char **cause);

#endif
