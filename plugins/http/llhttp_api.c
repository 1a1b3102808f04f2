/* llhttp's api.c, compiled from the system's llhttp sources (Debian
 * node-llhttp: /usr/share/llhttp, configure --with-llhttp=DIR), never copied
 * into this tree. Angle brackets: the file is found through -I$(LLHTTP_SRC),
 * not in this directory. llhttp's generated code is not written for our
 * warning flags; its symbols stay hidden in http.so (-fvisibility=hidden). */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#include <api.c>
