#ifndef TF_flowtable_H
#define TF_flowtable_H
#endif
