#ifndef TF_pipeline_H
#define TF_pipeline_H
#endif
