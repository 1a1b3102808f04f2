#ifndef TF_tcp_H
#define TF_tcp_H
#endif
