package history

import "github.com/glomers/glomers/workbench/edn"

// EDN returns the operation as Jepsen prints it: an ordered map
// {:index :time :type :process :f :value ...} followed by the workload's
// extra keys, with :final?, :error and :exception only when set.
func (o Op) EDN() edn.Map {
	var process any = o.Process
	if o.Process == NemesisProcess {
		process = edn.Keyword("nemesis")
	}
	m := edn.K(
		"index", o.Index,
		"time", o.Time,
		"type", edn.Keyword(o.Type.String()),
		"process", process,
		"f", edn.Keyword(o.F),
		"value", o.Value,
	)
	m = append(m, o.Extra...)
	if o.Final {
		m = append(m, edn.Entry{Key: edn.Keyword("final?"), Val: true})
	}
	if o.Error != nil {
		m = append(m, edn.Entry{Key: edn.Keyword("error"), Val: o.Error})
	}
	if o.Exception != "" {
		m = append(m, edn.Entry{Key: edn.Keyword("exception"), Val: edn.K("type", o.Exception, "message", o.ExceptionMessage)})
	}
	return m
}
