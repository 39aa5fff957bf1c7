# Prints cliff's own SolverParameter fields (numbers 1000 and up) from
# proto/cliff.proto as a help2man include section, each with the comment lines
# written above it in the schema, so the man page lists every field the
# schema has, as the schema describes it. Usage:
#   awk -f tools/man/solver_fields.awk proto/cliff.proto > solver_fields.h2m
BEGIN { print "[CLIFF SOLVER FIELDS]"
        print "cliff's own fields of the solver (SolverParameter), numbered from 1000 in"
        print "proto/cliff.proto; every other field is Caffe's, with Caffe's meaning." }
/^message SolverParameter *\{/ { in_msg = 1; depth = 1; comment = ""; next }
in_msg {
    line = $0
    opens = gsub(/\{/, "{", line); closes = gsub(/\}/, "}", line)
    depth += opens - closes
    if (depth <= 0) { in_msg = 0; next }
    if (depth != 1 && !(depth == 2 && opens)) { comment = ""; next }
    if ($0 ~ /^ *\/\/ *----/) { comment = ""; next }
    if ($0 ~ /^ *\/\//) {
        c = $0; sub(/^ *\/\/ ?/, "", c)
        comment = comment (comment == "" ? "" : " ") c
        next
    }
    if (match($0, /^ *(optional|repeated|required) +[A-Za-z0-9_.]+ +[a-z0-9_]+ *= *[0-9]+/)) {
        f = substr($0, RSTART, RLENGTH)
        n = split(f, w, /[ =]+/)
        num = w[n]; name = w[n - 1]; type = w[n - 2]
        if (num + 0 >= 1000) {
            dflt = ""
            if (match($0, /default *= *[^\]]+/)) { dflt = substr($0, RSTART, RLENGTH); sub(/default *= */, "", dflt) }
            print ".TP"
            print "\\fB" name "\\fR (" type (dflt != "" ? ", default " dflt : "") ", field " num ")"
            gsub(/\\/, "\\e", comment) # a backslash, for roff
            print (comment == "" ? "(no description in the schema)" : "\\&" comment)
        }
        comment = ""
        next
    }
    comment = ""
}
