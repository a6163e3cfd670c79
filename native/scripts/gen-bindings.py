#!/usr/bin/env python3
"""Generates the raw FFM binding classes (Ggml, GgmlBackend, GgmlAlloc, Llama) from the
C signatures listed below. One static method per C function, named as in C, each calling
a static final MethodHandle with invokeExact (the JIT inlines such calls).

Types: ptr (any pointer), int (int32 / enum), long (int64), size (size_t), float, double,
bool, byte (uint8/int8), void. Structs passed or returned by value are written by hand in
the binding classes' companions (GgmlInitParams, LlamaParams).

Run from the repository root: python3 native/scripts/gen-bindings.py
"""
import re, pathlib

HEADERS = {
"Ggml": ("ggml.h: contexts, tensors, operators, graphs, quantisation", """
ptr ggml_init_raw(size mem_size, ptr mem_buffer, bool no_alloc) = ggml_init_sysv
void ggml_free(ptr ctx)
void ggml_threadpool_params_init(ptr p, int n_threads)
size ggml_tensor_overhead()
size ggml_used_mem(ptr ctx)
size ggml_graph_overhead_custom(size size, bool grads)
ptr ggml_new_graph_custom(ptr ctx, size size, bool grads)
void ggml_build_forward_expand(ptr cgraph, ptr tensor)
int ggml_graph_n_nodes(ptr cgraph)
void ggml_graph_clear(ptr cgraph)
void ggml_graph_add_node(ptr cgraph, ptr tensor)
ptr ggml_graph_node(ptr cgraph, int i)
ptr ggml_op_name(int op)
ptr ggml_new_tensor_1d(ptr ctx, int type, long ne0)
ptr ggml_new_tensor_2d(ptr ctx, int type, long ne0, long ne1)
ptr ggml_new_tensor_3d(ptr ctx, int type, long ne0, long ne1, long ne2)
ptr ggml_new_tensor_4d(ptr ctx, int type, long ne0, long ne1, long ne2, long ne3)
ptr ggml_set_name(ptr tensor, ptr name)
ptr ggml_get_name(ptr tensor)
void ggml_set_input(ptr tensor)
void ggml_set_output(ptr tensor)
ptr ggml_get_first_tensor(ptr ctx)
ptr ggml_get_next_tensor(ptr ctx, ptr tensor)
size ggml_nbytes(ptr tensor)
long ggml_nelements(ptr tensor)
long ggml_nrows(ptr tensor)
size ggml_type_size(int type)
long ggml_blck_size(int type)
size ggml_row_size(int type, long ne)
ptr ggml_type_name(int type)
bool ggml_is_quantized(int type)
size ggml_quantize_chunk(int type, ptr src, ptr dst, long start, long nrows, long n_per_row, ptr imatrix)
bool ggml_quantize_requires_imatrix(int type)
bool ggml_validate_row_data(int type, ptr data, size nbytes)
void ggml_fp16_to_fp32_row(ptr x, ptr y, long n)
void ggml_fp32_to_fp16_row(ptr x, ptr y, long n)
ptr ggml_version()
ptr ggml_commit()
ptr ggml_mul_mat(ptr ctx, ptr a, ptr b)
ptr ggml_out_prod(ptr ctx, ptr a, ptr b)
void ggml_mul_mat_set_prec(ptr a, int prec)
ptr ggml_rms_norm(ptr ctx, ptr a, float eps)
ptr ggml_mul(ptr ctx, ptr a, ptr b)
ptr ggml_sub(ptr ctx, ptr a, ptr b)
ptr ggml_step(ptr ctx, ptr a)
ptr ggml_relu(ptr ctx, ptr a)
ptr ggml_add(ptr ctx, ptr a, ptr b)
ptr ggml_add_inplace(ptr ctx, ptr a, ptr b)
ptr ggml_scale(ptr ctx, ptr a, float s)
ptr ggml_silu(ptr ctx, ptr a)
ptr ggml_swiglu_split(ptr ctx, ptr a, ptr b)
ptr ggml_rope_ext(ptr ctx, ptr a, ptr b, ptr c, int n_dims, int mode, int n_ctx_orig, float freq_base, float freq_scale, float ext_factor, float attn_factor, float beta_fast, float beta_slow)
ptr ggml_soft_max_ext(ptr ctx, ptr a, ptr mask, float scale, float max_bias)
ptr ggml_flash_attn_ext(ptr ctx, ptr q, ptr k, ptr v, ptr mask, float scale, float max_bias, float logit_softcap)
void ggml_flash_attn_ext_set_prec(ptr a, int prec)
ptr ggml_get_rows(ptr ctx, ptr a, ptr b)
ptr ggml_set_rows(ptr ctx, ptr a, ptr b, ptr c)
ptr ggml_top_k(ptr ctx, ptr a, int k)
ptr ggml_argsort(ptr ctx, ptr a, int order)
ptr ggml_pool_2d(ptr ctx, ptr a, int op, int k0, int k1, int s0, int s1, float p0, float p1)
ptr ggml_cpy(ptr ctx, ptr a, ptr b)
ptr ggml_cont(ptr ctx, ptr a)
ptr ggml_cast(ptr ctx, ptr a, int type)
ptr ggml_transpose(ptr ctx, ptr a)
ptr ggml_permute(ptr ctx, ptr a, int axis0, int axis1, int axis2, int axis3)
ptr ggml_reshape_2d(ptr ctx, ptr a, long ne0, long ne1)
ptr ggml_reshape_3d(ptr ctx, ptr a, long ne0, long ne1, long ne2)
ptr ggml_reshape_4d(ptr ctx, ptr a, long ne0, long ne1, long ne2, long ne3)
ptr ggml_view_1d(ptr ctx, ptr a, long ne0, size offset)
ptr ggml_view_2d(ptr ctx, ptr a, long ne0, long ne1, size nb1, size offset)
ptr ggml_view_3d(ptr ctx, ptr a, long ne0, long ne1, long ne2, size nb1, size nb2, size offset)
ptr ggml_view_4d(ptr ctx, ptr a, long ne0, long ne1, long ne2, long ne3, size nb1, size nb2, size nb3, size offset)
ptr ggml_pool_1d(ptr ctx, ptr a, int op, int k0, int s0, int p0)
ptr ggml_sum_rows(ptr ctx, ptr a)
ptr ggml_mean(ptr ctx, ptr a)
ptr ggml_concat(ptr ctx, ptr a, ptr b, int dim)
ptr ggml_sqr(ptr ctx, ptr a)
ptr ggml_sqrt(ptr ctx, ptr a)
ptr ggml_div(ptr ctx, ptr a, ptr b)
ptr ggml_argmax(ptr ctx, ptr a)
ptr ggml_cumsum(ptr ctx, ptr a)
ptr ggml_scale_bias(ptr ctx, ptr a, float s, float b)
ptr ggml_arange(ptr ctx, float start, float stop, float step)
"""),
"GgmlBackend": ("ggml-backend.h and ggml-alloc.h: devices, backends, buffers, graph allocation and compute", """
void ggml_backend_load_all_from_path(ptr dir_path)
size ggml_backend_reg_count()
ptr ggml_backend_reg_get(size index)
ptr ggml_backend_reg_name(ptr reg)
size ggml_backend_reg_dev_count(ptr reg)
ptr ggml_backend_reg_get_proc_address(ptr reg, ptr name)
size ggml_backend_dev_count()
ptr ggml_backend_dev_get(size index)
ptr ggml_backend_dev_name(ptr device)
ptr ggml_backend_dev_description(ptr device)
int ggml_backend_dev_type(ptr device)
void ggml_backend_dev_memory(ptr device, ptr free, ptr total)
ptr ggml_backend_dev_backend_reg(ptr device)
ptr ggml_backend_dev_init(ptr device, ptr params)
ptr ggml_backend_dev_host_buffer_type(ptr device)
ptr ggml_backend_init_by_type(int type, ptr params)
ptr ggml_backend_init_by_name(ptr name, ptr params)
ptr ggml_backend_name(ptr backend)
void ggml_backend_free(ptr backend)
ptr ggml_backend_get_device(ptr backend)
ptr ggml_backend_get_default_buffer_type(ptr backend)
void ggml_backend_synchronize(ptr backend)
bool ggml_backend_supports_op(ptr backend, ptr op)
int ggml_backend_graph_compute(ptr backend, ptr cgraph)
int ggml_backend_graph_compute_async(ptr backend, ptr cgraph)
ptr ggml_backend_event_new(ptr device)
void ggml_backend_event_free(ptr event)
void ggml_backend_event_record(ptr event, ptr backend)
void ggml_backend_event_synchronize(ptr event)
ptr ggml_backend_buft_name(ptr buft)
ptr ggml_backend_buffer_name(ptr buffer)
void ggml_backend_buffer_free(ptr buffer)
size ggml_backend_buffer_get_size(ptr buffer)
void ggml_backend_buffer_clear(ptr buffer, byte value)
void ggml_backend_tensor_set(ptr tensor, ptr data, size offset, size size)
void ggml_backend_tensor_set_async(ptr backend, ptr tensor, ptr data, size offset, size size)
void ggml_backend_tensor_get_async(ptr backend, ptr tensor, ptr data, size offset, size size)
ptr ggml_backend_buffer_get_type(ptr buffer)
void ggml_backend_tensor_get(ptr tensor, ptr data, size offset, size size)
void ggml_backend_tensor_copy(ptr src, ptr dst)
int ggml_backend_tensor_alloc(ptr buffer, ptr tensor, ptr addr)
size ggml_backend_buffer_get_alloc_size(ptr buffer, ptr tensor)
ptr ggml_backend_alloc_ctx_tensors(ptr ctx, ptr backend)
ptr ggml_backend_alloc_ctx_tensors_from_buft(ptr ctx, ptr buft)
ptr ggml_backend_cpu_buffer_from_ptr(ptr data, size size)
ptr ggml_gallocr_new(ptr buft)
void ggml_gallocr_free(ptr galloc)
bool ggml_gallocr_reserve(ptr galloc, ptr graph)
bool ggml_gallocr_alloc_graph(ptr galloc, ptr graph)
size ggml_gallocr_get_buffer_size(ptr galloc, int buffer_id)
"""),
"Llama": ("llama.h: model loading, vocabulary, contexts, llama_decode, chat templates", """
void llama_backend_init()
void llama_backend_free()
ptr llama_model_load_from_file_raw(ptr path_model, ptr params) = llama_model_load_from_file
void llama_model_free(ptr model)
ptr llama_init_from_model_raw(ptr model, ptr params) = llama_init_from_model
void llama_free(ptr ctx)
ptr llama_model_get_vocab(ptr model)
int llama_model_meta_val_str(ptr model, ptr key, ptr buf, size buf_size)
int llama_model_desc(ptr model, ptr buf, size buf_size)
long llama_model_size(ptr model)
long llama_model_n_params(ptr model)
ptr llama_model_chat_template(ptr model, ptr name)
int llama_tokenize(ptr vocab, ptr text, int text_len, ptr tokens, int n_tokens_max, bool add_special, bool parse_special)
int llama_token_to_piece(ptr vocab, int token, ptr buf, int length, int lstrip, bool special)
int llama_detokenize(ptr vocab, ptr tokens, int n_tokens, ptr text, int text_len_max, bool remove_special, bool unparse_special)
int llama_vocab_n_tokens(ptr vocab)
int llama_vocab_bos(ptr vocab)
int llama_vocab_eos(ptr vocab)
int llama_vocab_eot(ptr vocab)
int llama_vocab_type(ptr vocab)
bool llama_vocab_get_add_bos(ptr vocab)
bool llama_vocab_is_eog(ptr vocab, int token)
ptr llama_vocab_get_text(ptr vocab, int token)
int llama_decode_raw(ptr ctx, ptr batch) = llama_decode
ptr llama_get_logits_ith(ptr ctx, int i)
int llama_n_ctx(ptr ctx)
void llama_set_n_threads(ptr ctx, int n_threads, int n_threads_batch)
void llama_attach_threadpool(ptr ctx, ptr threadpool, ptr threadpool_batch)
void llama_synchronize(ptr ctx)
ptr llama_get_memory(ptr ctx)
void llama_memory_clear(ptr mem, bool data)
bool llama_memory_seq_rm(ptr mem, int seq_id, int p0, int p1)
void llama_memory_seq_add(ptr mem, int seq_id, int p0, int p1, int delta)
int llama_memory_seq_pos_max(ptr mem, int seq_id)
bool llama_memory_can_shift(ptr mem)
int llama_chat_apply_template(ptr tmpl, ptr chat, size n_msg, bool add_ass, ptr buf, int length)
ptr llama_print_system_info()
bool llama_supports_gpu_offload()
"""),
}

JT = {"ptr": ("MemorySegment", "ADDRESS"), "int": ("int", "JAVA_INT"), "long": ("long", "JAVA_LONG"),
      "size": ("long", "JAVA_LONG"), "float": ("float", "JAVA_FLOAT"), "double": ("double", "JAVA_DOUBLE"),
      "bool": ("boolean", "JAVA_BOOLEAN"), "byte": ("byte", "JAVA_BYTE")}

# Functions whose by-value struct arguments are described by hand (see BY_VALUE below).
BY_VALUE = {
    "ggml_init_sysv": "FunctionDescriptor.of(ADDRESS, GgmlInitParams.LAYOUT)",
    "llama_model_load_from_file": "FunctionDescriptor.of(ADDRESS, ADDRESS, LlamaParams.MODEL_PARAMS)",
    "llama_init_from_model": "FunctionDescriptor.of(ADDRESS, ADDRESS, LlamaParams.CONTEXT_PARAMS)",
    "llama_decode": "FunctionDescriptor.of(JAVA_INT, ADDRESS, LlamaParams.BATCH)",
}

def gen(cls, doc, spec):
    out = []
    out.append("package org.rbench.llamacpp;\n")
    out.append("import java.lang.foreign.FunctionDescriptor;")
    out.append("import java.lang.foreign.MemorySegment;")
    out.append("import java.lang.invoke.MethodHandle;\n")
    out.append("import static java.lang.foreign.ValueLayout.*;\n")
    out.append("/**\n * Raw bindings to " + doc + ".\n * Generated by native/scripts/gen-bindings.py; edit the list there, not this file.\n"
               " * Names mirror the C API; see the C headers for each function's contract. No argument\n"
               " * is checked here: the idiomatic layer above validates before calling in.\n"
               " * Call {@link NativeLibraries#load()} before touching this class.\n */")
    out.append("@SuppressWarnings(\"unused\")")
    out.append("public final class %s {" % cls)
    out.append("    private %s() {\n    }\n" % cls)
    out.append("    private static final NativeLibraries LIBS = NativeLibraries.load();\n")
    for line in spec.strip().splitlines():
        m = re.match(r"(\w+)\s+(\w+)\((.*)\)(?:\s*=\s*(\w+))?$", line.strip())
        ret, name, args, csym = m.group(1), m.group(2), m.group(3), m.group(4)
        csym = csym or name
        params = [a.strip().split() for a in args.split(",") if a.strip()]
        if csym in BY_VALUE:
            desc = BY_VALUE[csym]
            if csym == "ggml_init_sysv":
                continue  # written by hand in GgmlInitParams
        else:
            lay = ", ".join(JT[t][1] for t, _ in params)
            if ret == "void":
                desc = "FunctionDescriptor.ofVoid(%s)" % lay
            else:
                desc = "FunctionDescriptor.of(%s%s)" % (JT[ret][1], (", " + lay) if lay else "")
        out.append("    private static final MethodHandle %s$MH = LIBS.function(\"%s\", %s);" % (name, csym, desc))
        jparams = ", ".join("%s %s" % (JT[t][0], n) for t, n in params)
        jargs = ", ".join(n for _, n in params)
        jret = "void" if ret == "void" else JT[ret][0]
        out.append("    public static %s %s(%s) {" % (jret, name, jparams))
        out.append("        try {")
        if ret == "void":
            out.append("            %s$MH.invokeExact(%s);" % (name, jargs))
        else:
            out.append("            return (%s) %s$MH.invokeExact(%s);" % (jret, name, jargs))
        out.append("        } catch (Throwable t) {")
        out.append("            throw Bindings.rethrow(t);")
        out.append("        }")
        out.append("    }\n")
    out.append("}")
    return "\n".join(out) + "\n"

root = pathlib.Path(__file__).resolve().parents[1] / "src/main/java/org/rbench/llamacpp"
for cls, (doc, spec) in HEADERS.items():
    (root / (cls + ".java")).write_text(gen(cls, doc, spec))
    print("wrote", cls)
