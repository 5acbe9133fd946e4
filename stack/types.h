/* types.h: the hooks of the types table (stack/types.c), for the types whose
 * describe, delete or list is not the generic one. Defined in stack/ (EC2,
 * EFS, IAM) and, for SageMaker notebooks, in stack/sagemaker.c. */
#ifndef MLSH_STACK_TYPES_H
#define MLSH_STACK_TYPES_H

#include "stack/stack.h"

/* stack.c: terminate (cancelling a spot request first); list live ones. */
int stack_instance_delete(struct stack *, cJSON *, struct aws_error *);
int stack_instance_list(struct stack *, cJSON *, struct aws_error *);

/* ec2.c: deletes that must undo something first (detach, disassociate,
 * revoke the rules naming the group). */
int stack_igw_delete(struct stack *, cJSON *, struct aws_error *);
int stack_rt_delete(struct stack *, cJSON *, struct aws_error *);
int stack_sg_delete(struct stack *, cJSON *, struct aws_error *);

/* efs.c: file systems are listed by their tags in the answer (EFS filters
 * by tag nowhere), mount targets through their file system; a file system
 * is priced by its size. */
void stack_efs_fs_attrs(cJSON *attrs, const cJSON *item);
int stack_efs_fs_list(struct stack *, cJSON *, struct aws_error *);
int stack_efs_mt_list(struct stack *, cJSON *, struct aws_error *);
double stack_efs_fs_price(const struct stack_prices *, const cJSON *);

/* iam.c: roles and instance profiles (by name, by path). */
int iam_role_delete(struct stack *, cJSON *, struct aws_error *);
int iam_role_refresh(struct stack *, cJSON *, struct aws_error *);
int iam_role_list(struct stack *, cJSON *, struct aws_error *);
int iam_profile_delete(struct stack *, cJSON *, struct aws_error *);
int iam_profile_refresh(struct stack *, cJSON *, struct aws_error *);
int iam_profile_list(struct stack *, cJSON *, struct aws_error *);

/* stack/sagemaker.c: a notebook is stopped before its delete; both are
 * found by the name mlsh gives them. */
int notebook_delete(struct stack *, cJSON *, struct aws_error *);
int notebook_refresh(struct stack *, cJSON *, struct aws_error *);
int notebook_list(struct stack *, cJSON *, struct aws_error *);
int notebook_lc_delete(struct stack *, cJSON *, struct aws_error *);
int notebook_lc_refresh(struct stack *, cJSON *, struct aws_error *);
int notebook_lc_list(struct stack *, cJSON *, struct aws_error *);

#endif
