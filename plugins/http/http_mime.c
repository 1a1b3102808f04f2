/* Content-Type -> file name extension, for -S http_names=1.6 (see
 * http_mime.h). The table holds the types seen on the web that tcpflow
 * 1.6's table knew, each with the extension 1.6 gave it (mostly the first
 * one mime.types lists); a type 1.6 did not know gets no extension, as in
 * 1.6 (application/octet-stream, application/x-javascript, ...). */
#include <string.h>
#include <strings.h>

#include "http_mime.h"

struct http_mime {
	const char *type;
	const char *ext;
};

/* Sorted by type (binary search). */
static const struct http_mime http_mime_table[] = {
	{ "application/atom+xml", "atom" },
	{ "application/ecmascript", "ecma" },
	{ "application/epub+zip", "epub" },
	{ "application/java-archive", "jar" },
	{ "application/javascript", "js" },
	{ "application/json", "json" },
	{ "application/msword", "doc" },
	{ "application/ogg", "ogx" },
	{ "application/pdf", "pdf" },
	{ "application/pgp-signature", "asc" },
	{ "application/pkcs7-mime", "p7m" },
	{ "application/pkix-cert", "cer" },
	{ "application/pkix-crl", "crl" },
	{ "application/postscript", "ps" },
	{ "application/rdf+xml", "rdf" },
	{ "application/rss+xml", "rss" },
	{ "application/rtf", "rtf" },
	{ "application/vnd.android.package-archive", "apk" },
	{ "application/vnd.apple.mpegurl", "m3u8" },
	{ "application/vnd.google-earth.kml+xml", "kml" },
	{ "application/vnd.google-earth.kmz", "kmz" },
	{ "application/vnd.ms-cab-compressed", "cab" },
	{ "application/vnd.ms-excel", "xls" },
	{ "application/vnd.ms-fontobject", "eot" },
	{ "application/vnd.ms-powerpoint", "ppt" },
	{ "application/vnd.oasis.opendocument.presentation", "odp" },
	{ "application/vnd.oasis.opendocument.spreadsheet", "ods" },
	{ "application/vnd.oasis.opendocument.text", "odt" },
	{ "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx" },
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx" },
	{ "application/x-7z-compressed", "7z" },
	{ "application/x-bittorrent", "torrent" },
	{ "application/x-bzip2", "bz2" },
	{ "application/x-debian-package", "deb" },
	{ "application/x-font-ttf", "ttf" },
	{ "application/x-font-woff", "woff" },
	{ "application/x-java-jnlp-file", "jnlp" },
	{ "application/x-pkcs12", "p12" },
	{ "application/x-rar-compressed", "rar" },
	{ "application/x-sh", "sh" },
	{ "application/x-shockwave-flash", "swf" },
	{ "application/x-tar", "tar" },
	{ "application/x-x509-ca-cert", "crt" },
	{ "application/x-xpinstall", "xpi" },
	{ "application/xhtml+xml", "xhtml" },
	{ "application/xml", "xml" },
	{ "application/xml-dtd", "dtd" },
	{ "application/xslt+xml", "xslt" },
	{ "application/zip", "zip" },
	{ "audio/midi", "mid" },
	{ "audio/mp4", "mp4a" },
	{ "audio/mpeg", "mpga" },
	{ "audio/ogg", "ogg" },
	{ "audio/webm", "weba" },
	{ "audio/x-aac", "aac" },
	{ "audio/x-mpegurl", "m3u" },
	{ "audio/x-ms-wma", "wma" },
	{ "audio/x-wav", "wav" },
	{ "image/bmp", "bmp" },
	{ "image/gif", "gif" },
	{ "image/jpeg", "jpg" },
	{ "image/png", "png" },
	{ "image/svg+xml", "svg" },
	{ "image/tiff", "tiff" },
	{ "image/webp", "webp" },
	{ "image/x-icon", "ico" },
	{ "message/rfc822", "eml" },
	{ "text/cache-manifest", "manifest" },
	{ "text/calendar", "ics" },
	{ "text/css", "css" },
	{ "text/csv", "csv" },
	{ "text/html", "html" },
	{ "text/plain", "txt" },
	{ "text/richtext", "rtx" },
	{ "text/tab-separated-values", "tsv" },
	{ "text/uri-list", "urls" },
	{ "text/vnd.wap.wml", "wml" },
	{ "text/x-c", "c" },
	{ "text/x-java-source", "java" },
	{ "text/x-vcard", "vcf" },
	{ "video/3gpp", "3gp" },
	{ "video/mp2t", "ts" },
	{ "video/mp4", "m4v" },
	{ "video/mpeg", "mpg" },
	{ "video/ogg", "ogv" },
	{ "video/quicktime", "mov" },
	{ "video/webm", "webm" },
	{ "video/x-flv", "flv" },
	{ "video/x-m4v", "m4v" },
	{ "video/x-ms-wmv", "wmv" },
	{ "video/x-msvideo", "avi" },
};

const char *http_mime_ext(const char *ct, size_t len)
{
	char type[96];
	size_t i = 0, n = 0;
	if (!ct)
		return NULL;
	while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
		i++;
	/* the type/subtype token, up to parameters or white space */
	while (i < len && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t' && ct[i] != ',') {
		if (n + 1 >= sizeof type)
			return NULL;
		char c = ct[i++];
		type[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	type[n] = '\0';
	size_t lo = 0, hi = sizeof http_mime_table / sizeof http_mime_table[0];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(type, http_mime_table[mid].type);
		if (c == 0)
			return http_mime_table[mid].ext;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
