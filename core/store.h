#ifndef TF_store_H
#define TF_store_H
#endif
