# Before/after, side by side: /tmp/wt-old is a worktree at 884b7b9 (before), /work/main at 70a8b62 (after); OUT is this folder.
export JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
for i in 1 2 3; do
  for side in before after; do
    dir=/work/main; [ $side = before ] && dir=/tmp/wt-old
    (cd $dir && ./rbench bench --model /work/main/models/rbench-longctx-run10-q8_0.gguf --ctx 16000 --fill synthetic --tokens 100 --repeats 1 --warmup 0 \
      --methods "full,recycled-dynamic:k=1024,decide=device" --out $OUT/$side-$i-methods.csv --steps-out $OUT/$side-$i-steps.csv > $OUT/$side-$i.log 2>&1)
  done
done
