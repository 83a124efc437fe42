module github.com/glomers/glomers

go 1.26
