module kubetrade.local/kindnode

go 1.26.0
