module github.com/rtgate/rtgate

go 1.26
