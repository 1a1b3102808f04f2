/* http_mime: the file name extension tcpflow 1.6 gave an HTTP body of a
 * given Content-Type (-S http_names=1.6): the first extension mime.types
 * lists for the type. */
#ifndef TCPFLOW_HTTP_MIME_H
#define TCPFLOW_HTTP_MIME_H

#include <stddef.h>

/* The extension (without the dot) for a Content-Type value ("text/html;
 * charset=utf-8": parameters and case ignored), or NULL when the type is
 * unknown or absent. */
const char *http_mime_ext(const char *content_type, size_t len);

#endif
